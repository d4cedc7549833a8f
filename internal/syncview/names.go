package syncview

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Object SIDs are derived from the service and the object's unique name, so the projector, the
// aim API and the cds routes agree on them without a lookup. Prefixes follow Twilio Sync's:
// ET documents, ES lists, MP maps.
func objectSid(kind, serviceSid, uniqueName string) string {
	h := sha256.Sum256([]byte(serviceSid + "\x00" + uniqueName))
	p := "MP"
	switch kind {
	case KindDocument:
		p = "ET"
	case KindList:
		p = "ES"
	}
	return p + hex.EncodeToString(h[:16])
}

// Ref names one Sync object of a service.
type Ref struct {
	Kind, Sid, UniqueName string
}

func ref(kind, serviceSid, uniqueName string) Ref {
	return Ref{Kind: kind, Sid: objectSid(kind, serviceSid, uniqueName), UniqueName: uniqueName}
}

// ConversationDoc, MessagesList and Roster are a conversation's objects.
func ConversationDoc(serviceSid, convSid string) Ref {
	return ref(KindDocument, serviceSid, convSid+".channel")
}

// MessagesList is the list of a conversation's messages (item index = message index).
func MessagesList(serviceSid, convSid string) Ref {
	return ref(KindList, serviceSid, convSid+".messages")
}

// Roster is the map of a conversation's participants (key = participant SID).
func Roster(serviceSid, convSid string) Ref { return ref(KindMap, serviceSid, convSid+".roster") }

// MyConversations is the map of an identity's conversations (key = conversation SID).
func MyConversations(serviceSid, identity string) Ref {
	return ref(KindMap, serviceSid, "my_conversations:"+identity)
}

// UserInfo is the map of an identity's user info (friendlyName, attributes).
func UserInfo(serviceSid, identity string) Ref {
	return ref(KindMap, serviceSid, "user_info:"+identity)
}

// collection is the URL segment of a kind.
func collection(kind string) string {
	switch kind {
	case KindDocument:
		return "Documents"
	case KindList:
		return "Lists"
	}
	return "Maps"
}

// kindOfCollection is the kind of a URL segment ("" when unknown).
func kindOfCollection(c string) string {
	switch c {
	case "Documents":
		return KindDocument
	case "Lists":
		return KindList
	case "Maps":
		return KindMap
	}
	return ""
}

// CDSBase is the base URL of Sync links; requests travel inside the socket, where only the
// host's first label ("cds") matters.
const CDSBase = "https://cds.us1.twilio.com"

func objectURL(serviceSid, kind, sid string) string {
	return CDSBase + "/v3/Services/" + serviceSid + "/" + collection(kind) + "/" + sid
}

func itemsURL(serviceSid, kind, sid string) string {
	return objectURL(serviceSid, kind, sid) + "/Items"
}

// owner returns the conversation SID of a conversation object's unique name, or the identity
// of a user object's, and which of the two it is.
func owner(uniqueName string) (convSid, identity string) {
	if i := strings.LastIndexByte(uniqueName, '.'); i > 0 && strings.HasPrefix(uniqueName, "CH") && !strings.Contains(uniqueName, ":") {
		return uniqueName[:i], ""
	}
	if _, id, ok := strings.Cut(uniqueName, ":"); ok {
		return "", id
	}
	return "", ""
}
