from django.http import Http404
from django.shortcuts import render

from legal.documents import current_documents


def document(request, kind: str):
    doc = current_documents().get(kind)
    if doc is None:
        raise Http404
    return render(request, doc.template_name, {"document": doc})
