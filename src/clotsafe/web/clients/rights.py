"""The client's data rights, for the clinic lead: the whole record as JSON or PDF, and erasure
(typing the client's name to confirm, POST only). Each is audited; erasure leaves one event."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from clotsafe.web.access import ClinicRequest, lead_view
from clotsafe.web.audit.services import log
from clotsafe.web.clients import record
from clotsafe.web.clients.models import Client


class EraseForm(forms.Form):
    name = forms.CharField(max_length=200, label="Type the client's name to confirm")

    def __init__(self, *args: object, client: Client, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.client = client

    def clean_name(self) -> str:
        typed: str = self.cleaned_data["name"]
        if " ".join(typed.split()).casefold() != " ".join(self.client.name.split()).casefold():
            raise forms.ValidationError("This is not the client's name: nothing was erased.")
        return typed


def _client(request: ClinicRequest, pk: int) -> Client:
    return get_object_or_404(Client.objects.select_related("clinic"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


def _attachment(response: HttpResponse, client: Client, ext: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="clotsafe-client-{client.pk}.{ext}"'
    return response


@lead_view
def export_json(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    log(request.clinic, request.user, "export", client, detail="whole client record (JSON)")
    body = json.dumps(record.record(client), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    return _attachment(HttpResponse(body, content_type="application/json"), client, "json")


@lead_view
def export_pdf(request: ClinicRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    log(request.clinic, request.user, "export", client, detail="whole client record (PDF)")
    pdf = record.record_pdf(client, request.user)
    return _attachment(HttpResponse(pdf, content_type="application/pdf"), client, "pdf")


@lead_view
def erase(request: ClinicRequest, pk: int) -> HttpResponse:
    """GET: what erasure deletes, and the form; POST: erase when the typed name matches."""
    client = _client(request, pk)
    form = EraseForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        record.erase(client, by=request.user, request=request)
        messages.success(request, "The client and all of their health data were erased.")
        return redirect("client_list")
    return render(request, "clotsafe/client_erase.html", {"client": client, "form": form})
