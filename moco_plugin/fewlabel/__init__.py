"""Few labels: uncertainty and diversity selection, teachers, pseudo-labels, the active loop."""
from moco_plugin.fewlabel.active_loop import DEFAULT_SCHEDULE, run_active_loop, summarise
from moco_plugin.fewlabel.diversity import diversity_picks, kmeans, typicality, typiclust_picks
from moco_plugin.fewlabel.finetune import FinetuneSettings, evaluate_classifier, finetune
from moco_plugin.fewlabel.pseudo_labels import PseudoLabels, precision_coverage, pseudo_label
from moco_plugin.fewlabel.strategies import STRATEGIES, Selection, check_strategy, select
from moco_plugin.fewlabel.teacher import TEACHERS, Teacher, accuracy, train_teacher
from moco_plugin.fewlabel.uncertainty import (SCORES, above_thresholds, entropy,
                                              least_confidence, margin, top_ranked, uncertainty)

__all__ = ['DEFAULT_SCHEDULE', 'FinetuneSettings', 'PseudoLabels', 'SCORES', 'STRATEGIES',
           'Selection', 'TEACHERS', 'Teacher', 'above_thresholds', 'accuracy', 'check_strategy',
           'diversity_picks', 'entropy', 'evaluate_classifier', 'finetune', 'kmeans',
           'least_confidence', 'margin', 'precision_coverage', 'pseudo_label', 'run_active_loop',
           'select', 'summarise', 'top_ranked', 'train_teacher', 'typicality', 'typiclust_picks',
           'uncertainty']
