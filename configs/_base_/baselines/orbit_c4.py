# Orbit averaging (equivarification) over C4: at prediction time the model runs on the four
# quarter turns of each input and averages the logits (segmentation: each turned back first),
# so predictions are exactly C4-invariant / -equivariant on square inputs; inference costs 4x.
# Training is the plain one (train_augment=True: one random quarter turn per batch).
# Keys: docs/config_reference.md#orbitaveragedmodel.
orbit = dict(group='C4', combine='mean_logits', train_augment=False)
