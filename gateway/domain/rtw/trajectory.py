"""The trajectory's use cases, built over the dossier's core (RP-F3..RP-F9, RP-R3, RF-2)."""

from __future__ import annotations

from gateway.domain.rtw.decisions import DecisionService
from gateway.domain.rtw.dossiers import RtwCore
from gateway.domain.rtw.lists import ListService
from gateway.domain.rtw.messages import MessageService
from gateway.domain.rtw.requests import RequestService, Trajectory
from gateway.domain.rtw.statistics import DEFAULT_THRESHOLD, StatisticsService
from gateway.domain.rtw.trio_link import TrioLinkService


def trajectory_services(core: RtwCore, small_cell: int = DEFAULT_THRESHOLD) -> tuple[
        RequestService, DecisionService, ListService, MessageService, TrioLinkService, StatisticsService]:
    trajectory = Trajectory(core)
    return (RequestService(trajectory), DecisionService(trajectory), ListService(trajectory), MessageService(trajectory),
            TrioLinkService(trajectory), StatisticsService(core, small_cell))
