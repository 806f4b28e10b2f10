// Ink imports react-devtools-core only when DEV=true; the single executable ships without it.
export default { connectToDevTools() {} };
export function connectToDevTools() {}
