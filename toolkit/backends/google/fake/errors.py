"""Google's error bodies, as the real APIs send them.

Sheets (a One Platform API) answers ``{"error": {"code", "message", "status", "details"?}}``;
Drive v3 adds the older ``errors: [{domain, reason, message, ...}]`` list that clients such as
gspread's ``BackOffHTTPClient`` inspect. Handlers raise :class:`ApiError`; the server turns it
into the JSON body.
"""

from __future__ import annotations

STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
          501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


class ApiError(Exception):
    """An answer other than 2xx, with Google's JSON body."""

    def __init__(self, code: int, body: dict, headers: dict | None = None):
        super().__init__(body.get("error", {}).get("message", code) if isinstance(
            body.get("error"), dict) else body)
        self.code = code
        self.body = body
        self.headers = headers or {}


def sheets_error(code: int, message: str, details: list | None = None) -> ApiError:
    error: dict = {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return ApiError(code, {"error": error})


def drive_error(code: int, message: str, reason: str, domain: str = "global",
                location: str | None = None, location_type: str | None = None,
                status: bool = False) -> ApiError:
    item = {"message": message, "domain": domain, "reason": reason}
    if location:
        item["location"] = location
        item["locationType"] = location_type or "parameter"
    error = {"code": code, "message": message, "errors": [item]}
    if status:
        error["status"] = STATUS.get(code, "UNKNOWN")
    return ApiError(code, {"error": error})


def error_for(api: str, code: int, message: str, reason: str, **kw) -> ApiError:
    return sheets_error(code, message) if api == "sheets" else drive_error(code, message, reason,
                                                                            **kw)


def invalid_argument(violations: list[tuple[str, str]]) -> ApiError:
    """400 with one BadRequest field violation per problem, messages joined as Google does."""
    details = [{"@type": BAD_REQUEST, "fieldViolations": [
        ({"field": field, "description": text} if field else {"description": text})
        for field, text in violations]}]
    return sheets_error(400, "\n".join(text for _, text in violations), details)


def invalid_request(index: int, kind: str, message: str) -> ApiError:
    """A batchUpdate sub-request Google refuses: nothing of the batch is applied."""
    return sheets_error(400, f"Invalid requests[{index}].{kind}: {message}")


def not_found(api: str, file_id: str = "") -> ApiError:
    if api == "sheets":
        return sheets_error(404, "Requested entity was not found.")
    return drive_error(404, f"File not found: {file_id}.", "notFound", location="fileId")


def forbidden(api: str) -> ApiError:
    if api == "sheets":
        return sheets_error(403, "The caller does not have permission")
    return drive_error(403, "The user does not have sufficient permissions for this file.",
                       "insufficientFilePermissions")


def unauthenticated(api: str, missing: bool) -> ApiError:
    if missing:
        message = ("Request is missing required authentication credential. Expected OAuth 2 "
                   "access token, login cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        reason = "CREDENTIALS_MISSING"
    else:
        message = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                   "token, login cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        reason = "ACCESS_TOKEN_EXPIRED"
    service = "sheets.googleapis.com" if api == "sheets" else "drive.googleapis.com"
    info = [{"@type": ERROR_INFO, "reason": reason, "domain": "googleapis.com",
             "metadata": {"service": service}}]
    if api == "sheets":
        return sheets_error(401, message, info)
    err = drive_error(401, message, "authError" if not missing else "required",
                      location="Authorization", location_type="header", status=True)
    err.body["error"]["details"] = info
    return err


def insufficient_scopes(api: str) -> ApiError:
    message = "Request had insufficient authentication scopes."
    info = [{"@type": ERROR_INFO, "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
             "domain": "googleapis.com", "metadata": {"service": f"{api}.googleapis.com"}}]
    if api == "sheets":
        return sheets_error(403, message, info)
    err = drive_error(403, message, "insufficientPermissions", status=True)
    err.body["error"]["errors"][0]["message"] = "Insufficient Permission"
    return err


def quota_exceeded(api: str, kind: str, limit: int, scope: str = "user") -> ApiError:
    """What Google sends past a per-minute quota (Sheets: 429; Drive: 403 usageLimits);
    ``scope`` "user" (per user per project) or "project" (all users of the project)."""
    if api == "drive":
        return drive_error(403, "User rate limit exceeded.", "userRateLimitExceeded",
                           domain="usageLimits")
    metric = "Read requests" if kind == "read" else "Write requests"
    per = " per user" if scope == "user" else ""
    limit_name = ("ReadRequestsPerMinute" if kind == "read" else "WriteRequestsPerMinute") + (
        "PerUser" if scope == "user" else "PerProject")
    unit = "1/min/{project}/{user}" if scope == "user" else "1/min/{project}"
    message = (f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute"
               f"{per}' of service 'sheets.googleapis.com' for consumer "
               "'project_number:100000000001'.")
    details = [
        {"@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
         "metadata": {"quota_limit": limit_name, "quota_location": "global",
                      "quota_metric": f"sheets.googleapis.com/{kind}_requests",
                      "quota_limit_value": str(limit), "consumer": "projects/100000000001",
                      "service": "sheets.googleapis.com", "quota_unit": unit}},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Request a higher quota limit.",
             "url": "https://cloud.google.com/docs/quotas/help/request_increase"}]},
    ]
    return sheets_error(429, message, details)


def server_fault(api: str, code: int) -> ApiError:
    """A 429/500/503 injected as a fault, shaped like Google's own."""
    if code == 429:
        return quota_exceeded(api, "read", 60) if api == "sheets" else drive_error(
            429, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
    if api == "sheets":
        text = {500: "Internal error encountered.", 503: "The service is currently unavailable.",
                502: "Bad Gateway", 504: "Deadline expired before operation could complete."}
        return sheets_error(code, text.get(code, "Unknown error"))
    reason = {500: "internalError", 503: "backendError"}.get(code, "backendError")
    text = {500: "Internal Error", 503: "The service is currently unavailable."}
    return drive_error(code, text.get(code, "Backend Error"), reason)


def storage_quota() -> ApiError:
    """A service account owns no storage: it may create files only inside a Shared Drive."""
    return drive_error(403, "The user's Drive storage quota has been exceeded.",
                       "storageQuotaExceeded", domain="usageLimits")


def unimplemented(what: str) -> ApiError:
    return sheets_error(501, f"fake Google does not implement {what}")
