"""``mmsofteq.FSDPStrategy``: mmengine's ``FSDPStrategy`` with a resume that works.

Two faults of mmengine 0.10.7's ``FSDPStrategy`` with this torch, both fixed here (everything
else is mmengine's; the scale recipes name ``strategy=dict(type='mmsofteq.FSDPStrategy', ...)``,
``docs/scaling.md``):

* ``load_optim_state_dict`` calls ``FSDP.optim_state_dict_to_load(optim_state_dict, model,
  optim)``, torch < 2.1's argument order; torch >= 2.1 takes ``(model, optim,
  optim_state_dict)``, so every ``--resume`` fails with ``TypeError: unhashable type: 'dict'``
  before the first step. Here the arguments go by name.
* With the model on the CPU (``device_id='cpu'``, gloo), ``state_dict_cfg='full'`` saves a
  wrong optimizer state: torch gathers each state (``exp_avg``, ``exp_avg_sq``) into one
  reused buffer and, with ``offload_to_cpu=True``, keeps views of it (``.cpu()`` of a CPU
  tensor is the tensor), so every saved state holds the last one gathered (AdamW's
  ``exp_avg`` = its ``exp_avg_sq``). On the CPU the offload is a no-op anyway: here it is
  turned off there, and torch copies each state. GPU runs are unaffected (``.cpu()`` copies).
"""
import copy

from mmengine._strategy import FSDPStrategy as MMEngineFSDPStrategy
from torch.distributed.fsdp import FullyShardedDataParallel

from ..registry import STRATEGIES


@STRATEGIES.register_module(name='FSDPStrategy')
class FSDPStrategy(MMEngineFSDPStrategy):
    """mmengine's ``FSDPStrategy`` (same arguments) with a working optimizer-state resume."""

    def optim_state_dict(self) -> dict:
        """The optimizer state to save; on a CPU model without the no-op CPU offload (module
        docstring)."""
        config = self.optim_state_dict_config
        on_cpu = getattr(getattr(self.model, 'compute_device', None), 'type', None) == 'cpu'
        if not (on_cpu and getattr(config, 'offload_to_cpu', False)):
            return super().optim_state_dict()
        copied = copy.copy(config)
        copied.offload_to_cpu = False
        with FullyShardedDataParallel.state_dict_type(self.model, self.state_dict_type,
                                                      self.state_dict_config, copied):
            return FullyShardedDataParallel.optim_state_dict(self.model, self.optim_wrapper)

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load a saved optimizer state (``state_dict_cfg='full'``: ``optimizer.state_dict()``
        of the gathered model; ``'local'``: this rank's shard) into the sharded optimizer."""
        to_load = FullyShardedDataParallel.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer, optim_state_dict=state_dict)
        self.optim_wrapper.load_state_dict(to_load)
