/** The service's version, shown by /healthz and the plugin manifest. */
export const VERSION = "0.1.0";
