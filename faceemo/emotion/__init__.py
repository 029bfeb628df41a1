"""Emotion classifiers: model registry, data (warehouse or pack), augmentation, training helpers, metrics.

Model and training code is Keras 3 backend-agnostic (keras, keras.ops, Keras layers, numpy and
keras.utils.PyDataset only); the one TensorFlow-specific piece, the MirroredStrategy engine, lives in
`faceemo.emotion.tf_engine`. Submodules that need Keras import it at module level, so import them
only where a model is really needed (the CLI's --help and the dashboard stay light).
"""

# Registered architecture names (faceemo.emotion.models.REGISTRY holds their factories); kept here so
# the command line can list them without importing Keras.
ARCHITECTURES: tuple[str, ...] = ("study_cnn", "vgg_fer", "vgg_gap", "resnet_fer", "xception")
