module.exports = { express: require('express'), debug: require('debug'), shared: require('@mono/shared') }
