from moco_plugin.models.data_preprocessors.ssl_data_preprocessor import SelfSupDataPreprocessor

__all__ = ['SelfSupDataPreprocessor']
