// Stands in for the `debug` package inside the layer's bundle. Only require-in-the-middle uses it,
// for its own troubleshooting output (DEBUG=require-in-the-middle), and loading the real package
// (tty and colour detection) cost about 7 ms of every cold start on this project's machines.
module.exports = function createDebug() {
  const log = () => {};
  log.enabled = false;
  log.extend = createDebug;
  return log;
};
module.exports.enabled = () => false;
