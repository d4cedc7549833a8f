package twilsock

import (
	"encoding/json"
	"fmt"
)

// Methods (header "method"). Source: twilsock npm package 1.0.2 / 0.14.0,
// dist/protocol/messages/*.js, dist/twilsock.js onIncomingMessage, dist/services/registrations.js.
const (
	MethodInit                  = "init"                    // C→S handshake
	MethodUpdate                = "update"                  // C→S token refresh
	MethodMessage               = "message"                 // C→S upstream (tunnelled HTTP) request
	MethodReply                 = "reply"                   // both: answer to a request, same id
	MethodClose                 = "close"                   // both: graceful close (S→C carries status)
	MethodNotification          = "notification"            // S→C push
	MethodClientUpdate          = "client_update"           // S→C, e.g. token_about_to_expire
	MethodPing                  = "ping"                    // S→C keepalive; the JS client acks it with reply
	MethodPutNotificationCtx    = "put_notification_ctx"    // C→S push context
	MethodDeleteNotificationCtx = "delete_notification_ctx" // C→S push context
	MethodTelemetry             = "telemetry.v1"            // C→S, only if the server confirmed the capability
)

// ClientUpdateTokenAboutToExpire is the client_update_type that makes the SDK emit
// tokenAboutToExpire (twilsock.js onIncomingMessage).
const ClientUpdateTokenAboutToExpire = "token_about_to_expire"

// Capabilities the JS client offers in init (protocol/messages/init.js).
const (
	CapabilityClientUpdate   = "client_update"
	CapabilityOfflineStorage = "offline_storage"
	CapabilityTelemetry      = "telemetry.v1"
)

// Header holds the fields every frame has. It is embedded in every typed header; Encode sets
// PayloadSize.
type Header struct {
	Method      string `json:"method"`
	ID          string `json:"id"`
	PayloadSize int    `json:"payload_size"`
	PayloadType string `json:"payload_type,omitempty"`
}

func (h *Header) common() *Header { return h }

// Status is a reply's or close's "status" (and a reply's "http_status"). The client reads
// code, and status.description and status.errorCode (camelCase on the wire) for errors
// (twilsock.js emitReplyConnectionError; errorCode 20104 means token expired).
type Status struct {
	Code        int    `json:"code"`
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
	ErrorCode   int    `json:"errorCode,omitempty"`
}

// StatusOK is the success status the JS client sends in its acks.
func StatusOK() Status { return Status{Code: 200, Status: "OK"} }

// Metadata describes the client (twilsock dist/metadata.js): SDK, OS and runtime.
type Metadata struct {
	Ver  string `json:"ver,omitempty"`
	Env  string `json:"env,omitempty"`
	Envv string `json:"envv,omitempty"`
	OS   string `json:"os,omitempty"`
	OSV  string `json:"osv,omitempty"`
	// OSA is the architecture; the JS client sends a number (64), Kotlin a string.
	OSA  json.RawMessage `json:"osa,omitempty"`
	Dev  string          `json:"dev,omitempty"`
	Devv string          `json:"devv,omitempty"`
	Devt string          `json:"devt,omitempty"`
	App  string          `json:"app,omitempty"`
	Appv string          `json:"appv,omitempty"`
	Type string          `json:"type,omitempty"`
	SDK  string          `json:"sdk,omitempty"`
	SDKV string          `json:"sdkv,omitempty"`
}

// Registration is one init "registrations" entry: which push message types a product wants on
// this socket. Conversations sends product "ip_messaging", type "ers", protocol version 0.
type Registration struct {
	Product                     string   `json:"product"`
	Type                        string   `json:"type"`
	NotificationProtocolVersion int      `json:"notification_protocol_version"`
	MessageTypes                []string `json:"message_types"`
	// NotificationCtxID is set in the server's init_registrations echo.
	NotificationCtxID string `json:"notification_ctx_id,omitempty"`
}

// Init is the client's handshake (protocol/messages/init.js, packetinterface.js sendInit).
type Init struct {
	Header
	Token             string          `json:"token"`
	ContinuationToken *string         `json:"continuation_token"`
	Metadata          *Metadata       `json:"metadata,omitempty"`
	Registrations     []Registration  `json:"registrations"`
	Tweaks            json.RawMessage `json:"tweaks,omitempty"`
	Capabilities      []string        `json:"capabilities"`
}

// Update is the client's token refresh (protocol/messages/update.js).
type Update struct {
	Header
	Token string `json:"token"`
}

// HTTPRequest is an upstream message's tunnelled request (services/upstream.js actualSend).
// Host is a label such as "aim.us1.twilio.com" (with ":port" when the URL had one); Params
// holds the query string pre-split by the client, values not URL-decoded.
type HTTPRequest struct {
	Host    string                `json:"host"`
	Path    string                `json:"path"`
	Method  string                `json:"method"`
	Params  map[string]MultiValue `json:"params,omitempty"`
	Headers map[string]MultiValue `json:"headers,omitempty"`
}

// Message is an upstream request (protocol/messages/message.js). PayloadType is the request
// Content-Type; the payload is the request body.
type Message struct {
	Header
	ActiveGrant string      `json:"active_grant"`
	HTTPRequest HTTPRequest `json:"http_request"`
}

// Reply answers a request (same id). For init it carries the InitReply fields; for upstream
// messages HTTPStatus/HTTPHeaders and the response body as payload (services/upstream.js:
// a non-2xx http_status becomes TwilsockUpstreamError). The client's acks are Replies with
// status 200 and no payload.
type Reply struct {
	Header
	Status      Status            `json:"status"`
	HTTPStatus  *Status           `json:"http_status,omitempty"`
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`
}

// InitReply is the reply to init (packetinterface.js sendInit reads continuation_token,
// capabilities, continuation_token_status, offline_storage, init_registrations, debug_info).
type InitReply struct {
	Reply
	ContinuationToken       string          `json:"continuation_token,omitempty"`
	Capabilities            []string        `json:"capabilities"`
	ContinuationTokenStatus json.RawMessage `json:"continuation_token_status,omitempty"`
	OfflineStorage          json.RawMessage `json:"offline_storage,omitempty"`
	InitRegistrations       []Registration  `json:"init_registrations,omitempty"`
	DebugInfo               json.RawMessage `json:"debug_info,omitempty"`
}

// Close: from the client, a bare goodbye; from the server, Status says why (twilsock.js:
// 308 offload and reconnect, payload {backoff_policy}; 406 cannot parse protocol, fatal;
// 417 cannot parse client reply, fatal; 410 token expired → tokenExpired; 401 auth failed).
type Close struct {
	Header
	Status *Status `json:"status,omitempty"`
}

// Notification is a server push; MessageType selects the SDK's listener (for example
// "twilio.sync.event" or "twilio.ipmsg.typing_indicator"). Twilio's server also writes
// payload_type "application/json" and an empty notification_ctx_id (Kotlin SDK tests).
type Notification struct {
	Header
	MessageType       string `json:"message_type"`
	NotificationCtxID string `json:"notification_ctx_id"`
}

// ClientUpdate is a server→client control message (client_update_type), with a human-readable
// client_update_message as Twilio's server writes it.
type ClientUpdate struct {
	Header
	ClientUpdateType    string `json:"client_update_type"`
	ClientUpdateMessage string `json:"client_update_message,omitempty"`
}

// Ping is a server keepalive; the JS client answers it with a 200 reply like any non-reply
// frame.
type Ping struct{ Header }

// NotificationCtx is put_notification_ctx (payload: the context) / delete_notification_ctx.
type NotificationCtx struct {
	Header
	NotificationCtxID string `json:"notification_ctx_id"`
}

// BackoffPolicy is the payload of a 308 close or a 429 init reply
// ({"backoff_policy":{"reconnect_min_ms":…,"reconnect_max_ms":…}}).
type BackoffPolicy struct {
	ReconnectMinMs int `json:"reconnect_min_ms"`
	ReconnectMaxMs int `json:"reconnect_max_ms,omitempty"`
}

// MultiValue is a params/headers value: the JS client writes a string, or an array when a
// query key repeats (null for a key without "="); Kotlin writes arrays.
type MultiValue []string

// UnmarshalJSON accepts a string, null, or an array of strings and nulls.
func (m *MultiValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = MultiValue{""}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = MultiValue{s}
		return nil
	}
	var arr []*string
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("a value must be a string or an array of strings: %w", err)
	}
	out := make(MultiValue, len(arr))
	for i, p := range arr {
		if p != nil {
			out[i] = *p
		}
	}
	*m = out
	return nil
}

// MarshalJSON writes one value as a string, several as an array.
func (m MultiValue) MarshalJSON() ([]byte, error) {
	if len(m) == 1 {
		return json.Marshal(m[0])
	}
	return json.Marshal([]string(m))
}

// First returns the first value or "".
func (m MultiValue) First() string {
	if len(m) == 0 {
		return ""
	}
	return m[0]
}
