/** The parameters every release module is compiled with (CommonJS's wrapper): the node's compile and the release reader's must agree. */
export const WRAPPER_PARAMS = ["exports", "require", "module", "__filename", "__dirname"];
