"""Facial landmarks: readers for the 68-point and Kaggle formats, the 68→15 mapping, FER-like framing,
keypoint-aware augmentation, the masked loss, the model factory and training helpers.

Submodules import their heavy dependencies (OpenCV, Keras) themselves, so importing the package is cheap.
"""
