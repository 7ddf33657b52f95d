import type { Command } from "./command.ts";
/** The `train` command. */
export const trainCommand: Command = {
  name: "train",
  summary: "TODO",
  usage: ["train"],
  positionals: true,
  options: {},
  examples: [],
  run() {
    return 0;
  },
};
