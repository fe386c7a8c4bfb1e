from ninja import Router

entries_router = Router(tags=["time entries"])
timer_router = Router(tags=["timer"])
