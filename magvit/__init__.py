"""MAGVIT, reproduced: a thin PyTorch package for the study of Yu et al., CVPR 2023."""

__version__ = "0.1.0"
