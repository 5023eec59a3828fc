"""Placeholder: filled in by the module's owner."""

from fastapi import APIRouter

router = APIRouter()
