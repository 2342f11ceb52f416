# Canon. baseline (Kaba et al. 2023; Mondal et al. 2023, the equiadapt package): a small
# C4-equivariant GCNN canonicaliser, from random init, predicts a quarter turn of each input;
# the input is turned back to its canonical orientation before the pretrained model (which
# keeps its own weights), segmentation logits are turned back again. Trained with the task
# loss plus prior_weight * CE(scores, identity); straight-through gradients into the
# canonicaliser; hard argmax at evaluation. Keys: docs/config_reference.md#canonicalizedmodel.
# The configs' rotated evaluation draws U(-30°, 30°), which C4 does not contain: Canon. then
# guarantees nothing for those angles (check with tools/test.py --angles c4).
# The paper's Canon. rows used an e2cnn steerable C_n canonicaliser instead (configs/README.md,
# C1).
canon = dict(
    canonicalizer=dict(group='C4', in_channels=3, input_size=64, stem_channels=8,
                       stem_kernel_size=5, stage_channels=(8, 16, 32), convs_per_stage=1,
                       kernel_size=3),
    prior_weight=1.0)
