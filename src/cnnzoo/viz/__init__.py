"""Pictures of networks and runs: matplotlib PNGs with titles, labelled axes and units."""

from cnnzoo.viz.charts import plot_comparison

__all__ = ["plot_comparison"]
