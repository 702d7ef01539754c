"""INTERPOL public notices JSON (adapter ``interpol-notice``)."""

from adapters.interpol_notice.adapter import InterpolNoticeAdapter

__all__ = ["InterpolNoticeAdapter"]
