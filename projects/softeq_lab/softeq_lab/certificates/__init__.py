"""The certificate check: each projected layer's measured invariance error against the bound
its projection report states."""
