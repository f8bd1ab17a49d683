"""Partner Center simulator for local runs and tests (loopback HTTP)."""

from tools.pcsim.faults import FaultKind, FaultRule
from tools.pcsim.server import DEMO_TENANT, Simulator, SimulatorCore

__all__ = ["DEMO_TENANT", "FaultKind", "FaultRule", "Simulator", "SimulatorCore"]
