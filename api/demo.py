"""`make demo`: serve the app in the foreground and tell the person where to go."""

from __future__ import annotations

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    base = f"http://{args.host}:{args.port}"
    print(f"\nbangfu 帮扶 is running at {base}")
    print(f"  API documentation: {base}/api/v1/docs")
    print(f"  health:            {base}/api/v1/health")
    print("Press Ctrl-C to stop (the databases keep running; `make down` stops them).\n")
    uvicorn.run("api.app:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
