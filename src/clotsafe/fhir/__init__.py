"""FHIR R4 and CDS Hooks 2.0 adapters at the edge: pure functions, no web framework.

Questionnaire generation, QuestionnaireResponse -> intake, EHR resources -> intake answers and
clinical findings (each with the resource it came from), CDS Hooks cards, RiskAssessment.
"""
