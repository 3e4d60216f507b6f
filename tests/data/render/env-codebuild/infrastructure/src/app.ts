const inputs = require("../proton-inputs.json");
console.log(inputs.environment.name);
