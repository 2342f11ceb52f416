"""The digits tunability experiment (a soft-invariant linear layer on rotated digits) and its
comparison with the baselines."""
