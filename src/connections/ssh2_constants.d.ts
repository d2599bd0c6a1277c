/** The algorithm lists of `ssh2/lib/protocol/constants.js` that AutoComm reads. */
declare const constants: Record<
  "SUPPORTED_KEX" | "SUPPORTED_CIPHER" | "SUPPORTED_SERVER_HOST_KEY" | "SUPPORTED_MAC",
  string[]
>;
export default constants;
