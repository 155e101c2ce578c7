"""Export a sentence-transformers BERT model to ONNX (the transformer; pooling is done by the
caller): `python -m radio.backends.embedder.export MODEL_DIR OUT.onnx`.

Run as a child process by `radio.backends.embedder.onnx`, so torch is loaded only here, once
per machine, and never in the station. Written to a temporary name, then renamed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from radio.artifacts import atomic_path

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export(model_dir: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer

    class Hidden(torch.nn.Module):
        """The model's last hidden state, from positional inputs (what ONNX export wants)."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = Hidden(AutoModel.from_pretrained(str(model_dir)).eval())
    example = AutoTokenizer.from_pretrained(str(model_dir))(
        ["an example", "another, longer example"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with atomic_path(out) as tmp, torch.no_grad():
        torch.onnx.export(model, tuple(example[name] for name in INPUTS), str(tmp),
                          input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


if __name__ == "__main__":
    export(Path(sys.argv[1]), Path(sys.argv[2]))
