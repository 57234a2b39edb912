"""Task mining on sanitized data: UI event log -> task instances -> routines -> automation candidates.

Inputs: Veil's sanitized text layer (`textlayer`), Action Logger CSV (`actionlogger`), XES (`xes`,
optional pm4py extra). `segment` finds task instances and types from the events alone; `routines`
ranks candidates; `report` writes the HTML; `cli.mine` runs it all.
"""
