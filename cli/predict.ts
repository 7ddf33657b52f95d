import type { Command } from "./command.ts";
/** The `predict` command. */
export const predictCommand: Command = {
  name: "predict",
  summary: "TODO",
  usage: ["predict"],
  positionals: true,
  options: {},
  examples: [],
  run() {
    return 0;
  },
};
