"""The resource handlers of the FHIR face, one module per resource family."""

from __future__ import annotations

from gateway.fhir.handler import ResourceHandler


def all_handlers() -> list[ResourceHandler]:
    """Every handler the server mounts (the CapabilityStatement lists exactly these)."""
    handlers: list[ResourceHandler] = []
    from gateway.fhir.resources.inclusion import EpisodeOfCareHandler
    from gateway.fhir.resources.rtw_dossier import EpisodeOfCareDispatch, RtwDossierHandler  # inclusions and RTW dossiers
    from gateway.fhir.resources.rtw_form import QuestionnaireHandler, QuestionnaireResponseHandler

    handlers += [EpisodeOfCareDispatch(EpisodeOfCareHandler(), RtwDossierHandler()), QuestionnaireResponseHandler(),
                 QuestionnaireHandler()]
    from gateway.fhir.resources.consent import ConsentHandler

    handlers.append(ConsentHandler())
    # care teams and referrals
    from gateway.fhir.resources.care_team import CareTeamHandler
    from gateway.fhir.resources.referral import ServiceRequestHandler, TaskHandler

    from gateway.fhir.resources.rights import RightsTaskHandler, TaskDispatch  # Task: referral tasks and rights requests (DS-2..DS-4)

    from gateway.fhir.resources.rtw_request import RtwStepHandler, RtwTaskDispatch, ServiceRequestDispatch, RtwRequestHandler

    # ServiceRequest and Task: return-to-work requests and their steps beside referrals (RP-F3..RP-F5, RF-2)
    handlers += [CareTeamHandler(), ServiceRequestDispatch(ServiceRequestHandler(), RtwRequestHandler()),
                 RtwTaskDispatch(TaskDispatch(TaskHandler(), RightsTaskHandler()), RtwStepHandler())]
    from gateway.fhir.resources.rtw_message import CommunicationHandler  # return-to-work messages (RP-F6, RP-F8)

    from gateway.fhir.resources.rtw_lists import HoursListHandler, HoursReportHandler, MeasureReportHandler  # RP-F7, RP-R3

    handlers += [CommunicationHandler(), HoursListHandler(), HoursReportHandler(), MeasureReportHandler()]
    # directory and audit
    from gateway.fhir.resources.audit import audit_handlers
    from gateway.fhir.resources.directory import directory_handlers

    handlers += directory_handlers() + audit_handlers()
    from gateway.fhir.resources.perinatal import perinatal_handlers  # the perinatal programme's resources (PN-1, PN-2, RF-3)

    return perinatal_handlers(handlers)
