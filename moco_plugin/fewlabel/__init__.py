"""Few labels: uncertainty and diversity selection, teachers, pseudo-labels, the active loop."""
from moco_plugin.fewlabel.active_loop import DEFAULT_SCHEDULE, run_active_loop, summarise
from moco_plugin.fewlabel.diversity import diversity_picks, kmeans
from moco_plugin.fewlabel.finetune import FinetuneSettings, evaluate_classifier, finetune
from moco_plugin.fewlabel.pseudo_labels import (CRITERIA, PseudoLabels, certainty,
                                                check_different_teacher, precision_coverage,
                                                precision_curve, pseudo_label,
                                                threshold_for_precision)
from moco_plugin.fewlabel.strategies import STRATEGIES, Selection, check_strategy, select
from moco_plugin.fewlabel.teacher import (TEACHERS, Teacher, accuracy, cross_validated_probs,
                                          train_teacher)
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS, typicality, typiclust_picks
from moco_plugin.fewlabel.uncertainty import (SCORES, above_thresholds, entropy,
                                              least_confidence, margin, max_knn_entropy, top_ranked,
                                              uncertainty)

__all__ = ['CRITERIA', 'DEFAULT_SCHEDULE', 'FinetuneSettings', 'MAX_CLUSTERS', 'PseudoLabels',
           'SCORES', 'STRATEGIES', 'Selection', 'TEACHERS', 'Teacher', 'above_thresholds',
           'accuracy', 'certainty', 'check_different_teacher', 'check_strategy',
           'cross_validated_probs', 'diversity_picks', 'entropy', 'evaluate_classifier',
           'finetune', 'kmeans', 'least_confidence', 'margin', 'max_knn_entropy',
           'precision_coverage', 'precision_curve', 'pseudo_label', 'run_active_loop', 'select',
           'summarise', 'threshold_for_precision', 'top_ranked', 'train_teacher', 'typicality',
           'typiclust_picks', 'uncertainty']
