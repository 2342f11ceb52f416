"""Imported first by ``train.py``, ``test.py`` and ``export_checkpoint.py``, before torch and
mmengine load: exit at once with how to install mmsofteq when it is not importable (the
editable install is the tools' contract; no tool edits ``sys.path``)."""
try:
    import mmsofteq  # noqa: F401
except ImportError as error:
    raise SystemExit(f'{error}: install mmsofteq first (make env, or pip install -e .)')
