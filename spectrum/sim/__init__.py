"""Synthetic RTL-SDR captures with ground-truth labels, for testing jamming detectors.

`signals` generates waveforms as functions of absolute sample index, `impairments` adds the
dongle's imperfections and 8-bit quantisation, and `scenarios` combines them into the labelled
library `SCENARIOS` (see that module for the level and timing conventions).
"""

from spectrum.sim.scenarios import SCENARIOS, Label, Scenario, get_scenario, render_cu8

__all__ = ["SCENARIOS", "Label", "Scenario", "get_scenario", "render_cu8"]
