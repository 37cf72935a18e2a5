// Loaded by path, not imported: the Temporal SDK `require()`s it in the worker and the client
// (DataConverter.failureConverterPath) and bundles it into the workflow sandbox, so it is plain
// CommonJS that Node and the workflow bundler both load without a TypeScript loader.
//
// Failure messages and stack traces move into `encodedAttributes`, a payload that the payload
// codec encrypts; the plain `message` becomes "Encoded failure". A failure message can carry an
// email address or a rendered template, so with HERALD_PAYLOAD_KEYS set none stays readable.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
