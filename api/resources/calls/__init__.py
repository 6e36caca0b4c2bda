"""Emergency calls (一键呼叫): from pendants, sensors, family members and dispatchers."""
