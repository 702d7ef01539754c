"""INTERPOL public notices JSON (adapter ``interpol-notice``)."""
