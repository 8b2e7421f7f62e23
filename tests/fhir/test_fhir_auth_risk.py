"""JWT verification (ES384/RS384, iss allow-list, aud, exp, jti replay) and the RiskAssessment."""

from __future__ import annotations

import jwt
import pytest
from cds_live import ISS_EC, Keys
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir_builders import AT, ICD, ago, bundle, condition, patient

from clotsafe.fhir.auth import AuthError, JwtConfig, MemoryJtiStore, bearer, verify
from clotsafe.fhir.ehr import derive
from clotsafe.fhir.risk import risk_assessment
from clotsafe.rules import evaluate

AUD = "http://127.0.0.1:8000/cds-services/clotsafe-patient-view"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def _config(keys: Keys) -> JwtConfig:
    return JwtConfig(keys.jwks(), AUD)


def test_a_good_es384_token_is_verified(keys: Keys) -> None:
    """A token signed by an allow-listed issuer for this audience passes and returns claims."""
    claims = verify(keys.token(AUD), _config(keys), MemoryJtiStore())
    assert claims["iss"] == ISS_EC


def test_hs256_is_refused_even_with_a_known_issuer(keys: Keys) -> None:
    """Only ES384 and RS384: a shared-secret HS256 token is refused."""
    token = jwt.encode({"iss": ISS_EC, "aud": AUD}, "secret" * 8, algorithm="HS256")
    with pytest.raises(AuthError, match="ES384 or RS384"):
        verify(token, _config(keys), MemoryJtiStore())


def test_a_token_without_jti_is_refused(keys: Keys) -> None:
    """jti is required: without it replay cannot be detected."""
    token = jwt.encode({"iss": ISS_EC, "aud": AUD, "exp": 9999999999, "iat": 1}, keys.ec,
                       algorithm="ES384", headers={"kid": "ec-1"})  # fmt: skip
    with pytest.raises(AuthError, match="jti"):
        verify(token, _config(keys), MemoryJtiStore())


def test_replay_is_detected_by_the_store(keys: Keys) -> None:
    """The same jti twice: the second use is refused."""
    store, token = MemoryJtiStore(), keys.token(AUD, jti="one")
    verify(token, _config(keys), store)
    with pytest.raises(AuthError, match="replay"):
        verify(token, _config(keys), store)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer "])
def test_authorization_header_must_be_bearer(header: str | None) -> None:
    """A missing or non-Bearer Authorization header is a clear 401 message."""
    with pytest.raises(AuthError):
        bearer(header)


def test_risk_assessment_is_valid_fhir_with_rules_and_sources_as_basis() -> None:
    """RiskAssessment: rules that fired and the source resources are its basis; valid R4."""
    facts = derive(bundle(patient(), condition("I82.412", ICD, onset=ago(20), rid="dvt")), at=AT)
    decision = evaluate(facts.intake(), at=AT)
    ra = risk_assessment(decision, patient_ref=facts.patient_ref, sources=facts.sources)
    RiskAssessment.model_validate(ra)
    refs = [b["reference"] for b in ra["basis"]]
    assert any(r.endswith("/PlanDefinition/CLOT-ACTIVE") for r in refs)
    assert "Condition/dvt" in refs
    assert ra["prediction"][0]["outcome"]["coding"][0]["code"] == "clearance_required"
    assert ra["status"] == "preliminary"  # the screening is incomplete
