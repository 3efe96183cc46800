const React = require('react')
const { renderToString } = require('react-dom/server')
module.exports = () => renderToString(React.createElement('b', { className: require('classnames')('x') }, require('@mono/shared').chunk([1, 2, 3], 2).length))
