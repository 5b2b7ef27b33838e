"""Trend signals: the monitoring plan applied to the KPIs of the audit log.

ISO 9001 10.3 / ISO 13485 8.4 ask for analysis of complaint data, and EU MDR Article 88 for
a statistically significant increase judged by a method fixed in advance. This package holds
that method: the plan (`plan`), pure statistics (`charts`, `exact`, `drift`), the series
the plan watches (`series`, read from `kpi` facts), the analysis (`analysis`), and the run
that audits and publishes its signals (`run`, `activity`, `workflow`, `schedule`).
"""
