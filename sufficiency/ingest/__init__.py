"""Datasets made from the data councils hold (build-dataset) or synthetically (synth)."""
