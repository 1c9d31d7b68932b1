"""Stage 1: read and check a run TOML and its dataset into a :class:`Dataset`.

The only input the model sees is the ``Dataset`` this stage returns
(:func:`sufficiency.preprocess.dataset.load_dataset`).
"""
