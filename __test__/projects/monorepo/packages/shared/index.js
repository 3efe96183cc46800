module.exports = { chunk: require('lodash').chunk, z: require('zod').z }
