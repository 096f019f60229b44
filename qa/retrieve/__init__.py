"""Retrieve: a question -> ranked `Hit`s from the index, dense and lexical lists fused with the question's
language in mind, the question searched in its member-word and other-language views (`retriever`)."""

from .retriever import RRF_K, Fusion, Query, RetrievalSettings, Retriever, Searched, query_views

__all__ = ["RRF_K", "Fusion", "Query", "RetrievalSettings", "Retriever", "Searched", "query_views"]
