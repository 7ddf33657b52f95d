"""nbconvert's ExecutePreprocessor, patient with Deno's kernel.

Deno's Jupyter kernel (2.x) sometimes publishes a cell's result or
display just after the "idle" status that tells the client the cell is
done. nbclient stops listening at "idle", so that output would be lost
(or, in an interactive client, shown late). This preprocessor keeps
collecting the cell's own messages for a short grace period after "idle".

Used by notebooks/execute.ts:
    PYTHONPATH=notebooks jupyter nbconvert --to notebook \
      --Exporter.preprocessors=deno_execute.DenoExecutePreprocessor \
      --DenoExecutePreprocessor.enabled=True notebook.ipynb
"""

import queue

from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Float


class DenoExecutePreprocessor(ExecutePreprocessor):
    """Executes a notebook, collecting outputs that arrive after "idle"."""

    grace = Float(
        0.5, help="Seconds to wait for late outputs after a cell is idle"
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        assert self.kc is not None
        done = False
        while True:
            try:
                msg = await ensure_async(
                    self.kc.iopub_channel.get_msg(
                        timeout=self.grace if done else None
                    )
                )
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                done = True
