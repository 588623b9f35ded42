"""Pictures of networks and runs: matplotlib PNGs with titles, labelled axes and units."""

from cnnzoo.viz.activations import activation_maps, plot_activations
from cnnzoo.viz.cam import cam_layer, grad_cam, plot_cam
from cnnzoo.viz.charts import plot_comparison, plot_measures
from cnnzoo.viz.curves import load_history, plot_curves
from cnnzoo.viz.evaluation import plot_confusion
from cnnzoo.viz.filters import first_conv, plot_filters

__all__ = [
    "activation_maps",
    "cam_layer",
    "first_conv",
    "grad_cam",
    "load_history",
    "plot_activations",
    "plot_cam",
    "plot_comparison",
    "plot_confusion",
    "plot_curves",
    "plot_filters",
    "plot_measures",
]
