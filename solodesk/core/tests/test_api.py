"""The API as a whole: its OpenAPI schema and docs. (Authentication is tested with the
clients API, since tests here may not import the feature apps.)"""

from django.test import Client as DjangoClient

EXPECTED_PATHS = {
    "/api/v1/expenses": {"get", "post"},
    "/api/v1/expenses/totals": {"get"},
    "/api/v1/expenses/{expense_id}": {"get", "patch", "delete"},
    "/api/v1/reports/yearly": {"get"},
    "/api/v1/clients": {"get", "post"},
    "/api/v1/clients/{client_id}": {"get", "patch"},
    "/api/v1/clients/{client_id}/archive": {"post"},
    "/api/v1/clients/{client_id}/unarchive": {"post"},
    "/api/v1/projects": {"get", "post"},
    "/api/v1/projects/{project_id}": {"get", "patch"},
    "/api/v1/projects/{project_id}/archive": {"post"},
    "/api/v1/projects/{project_id}/unarchive": {"post"},
    "/api/v1/time-entries": {"get", "post"},
    "/api/v1/time-entries/export": {"post"},
    "/api/v1/time-entries/{entry_id}": {"get", "patch", "delete"},
    "/api/v1/timer": {"get"},
    "/api/v1/timer/start": {"post"},
    "/api/v1/timer/stop": {"post"},
    "/api/v1/timer/discard": {"post"},
    "/api/v1/jobs/{job_id}": {"get"},
    "/api/v1/jobs/{job_id}/result": {"get"},
    "/api/v1/invoices": {"get", "post"},
    "/api/v1/invoices/receivables": {"get"},
    "/api/v1/invoices/from-time": {"post"},
    "/api/v1/invoices/{invoice_id}": {"get", "patch", "delete"},
    "/api/v1/invoices/{invoice_id}/issue": {"post"},
    "/api/v1/invoices/{invoice_id}/void": {"post"},
    "/api/v1/invoices/{invoice_id}/credit-note": {"post"},
    "/api/v1/invoices/{invoice_id}/payments": {"get", "post"},
    "/api/v1/invoices/{invoice_id}/activity": {"get"},
    "/api/v1/invoices/{invoice_id}/payments/{payment_id}": {"delete"},
    "/api/v1/invoices/{invoice_id}/send": {"post"},
    "/api/v1/invoices/{invoice_id}/pdf": {"get"},
    "/api/v1/quotes": {"get", "post"},
    "/api/v1/quotes/{quote_id}": {"get", "patch", "delete"},
    "/api/v1/quotes/{quote_id}/send": {"post"},
    "/api/v1/quotes/{quote_id}/convert": {"post"},
    "/api/v1/health": {"get"},
    "/api/v1/reminders": {"get"},
    "/api/v1/reminders/settings": {"get", "put"},
    "/api/v1/reminders/invoices/{invoice_id}/send": {"post"},
    "/api/v1/recurring-invoices": {"get", "post"},
    "/api/v1/recurring-invoices/{profile_id}": {"get", "patch", "delete"},
    "/api/v1/recurring-invoices/{profile_id}/pause": {"post"},
    "/api/v1/recurring-invoices/{profile_id}/resume": {"post"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/webhooks/{endpoint_id}": {"get", "patch", "delete"},
    "/api/v1/webhooks/{endpoint_id}/secret": {"post"},
    "/api/v1/webhooks/{endpoint_id}/ping": {"post"},
    "/api/v1/webhooks/{endpoint_id}/deliveries": {"get"},
    "/api/v1/prompts": {"get"},
    "/api/v1/prompts/{key}/dismiss": {"post"},
    "/api/v1/prompts/{key}/snooze": {"post"},
}


def test_openapi_schema_loads_and_lists_every_path(db):
    response = DjangoClient().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Solodesk API"
    paths = {path: set(methods) for path, methods in schema["paths"].items()}
    assert paths == EXPECTED_PATHS


def test_openapi_schema_documents_bearer_authentication_and_decimal_strings(db):
    schema = DjangoClient().get("/api/v1/openapi.json").json()

    assert schema["components"]["securitySchemes"]["BearerTokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    rate = schema["components"]["schemas"]["ProjectOut"]["properties"]["hourly_rate"]
    assert {"type": "string", "format": "decimal", "examples": ["95.00"]} in rate["anyOf"]


def test_interactive_docs_load(db):
    response = DjangoClient().get("/api/v1/docs")

    assert response.status_code == 200


def test_a_malformed_authorization_header_is_401(db):
    client = DjangoClient(HTTP_AUTHORIZATION="Token abc")

    assert client.get("/api/v1/timer").status_code == 401
