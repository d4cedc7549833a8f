package conv

import (
	"context"
	"errors"
)

// InboundMessage is a message that arrived from outside Parley: From (a phone number or
// whatsapp: address) wrote to To, one of the account's addresses.
type InboundMessage struct {
	AccountSid string
	From       string
	To         string
	Body       string
	// MediaURL, when set, is the URL of a media item the message carries (MMS); its
	// MediaContentType is optional.
	MediaURL         string
	MediaContentType string
}

// InboundResult says where an inbound message went.
type InboundResult struct {
	Conversation *Conversation
	Message      *Message
	// Created is true when the conversation was auto-created for this message.
	Created bool
	// Webhook is the conversation-scoped webhook auto-creation attached (nil when none).
	Webhook *ConversationWebhook
}

// ReceiveInbound routes an inbound message. When a participant of a non-closed conversation
// holds the pair (From, To), the message is added to that conversation, authored by From.
// Otherwise, when To has an address configuration with auto-creation enabled, a conversation
// is created in the configuration's service (the default service when it names none or no
// longer exists) with From as an SMS/WhatsApp participant through To, a conversation-scoped
// webhook is attached for auto-creation types webhook (URL, method, filters) and studio
// (flow SID), and the message is added to it. The conversation and its participant are
// created in one transaction; the webhook and the message each in one of their own. The
// changes carry Source SMS or WHATSAPP (see InboundSource), so they fire post-event webhooks.
// Errors: 20404 (no conversation holds the pair and To has no enabled auto-creation), and
// those of CreateParticipant, CreateConversationWebhook and CreateMessage.
func (s *Service) ReceiveInbound(ctx context.Context, in InboundMessage) (*InboundResult, error) {
	if err := ValidateBindingAddresses(in.From, in.To); err != nil {
		return nil, err
	}
	res := &InboundResult{}
	c, err := s.conversationHolding(ctx, in.AccountSid, in.From, in.To)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if c, res.Webhook, err = s.autoCreate(ctx, in); err != nil {
			return nil, err
		}
		res.Created = true
	}
	res.Conversation = c
	author, body := in.From, in.Body
	mc := MessageCreate{Author: &author, Body: &body}
	if in.MediaURL != "" { // media.go: recorded with its URL as content location
		me, err := s.externalMedia(ctx, c, in.From, in.MediaURL, in.MediaContentType)
		if err != nil {
			return nil, err
		}
		mc.MediaSid = &me.Sid
		if body == "" {
			mc.Body = nil
		}
	}
	res.Message, err = s.CreateMessage(ctx, Scope{AccountSid: c.AccountSid, ServiceSid: c.ServiceSid}, c.Sid, mc, WriteOptions{Source: InboundSource(in.From)})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// conversationHolding returns the non-closed conversation whose participant holds (address,
// proxy), or nil. A holder whose closed timer is due is closed first (and so not returned).
func (s *Service) conversationHolding(ctx context.Context, accountSid, address, proxy string) (*Conversation, error) {
	cl, err := s.store.GetBindingClaim(ctx, accountSid, address, proxy)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c, err := s.store.FindConversation(ctx, cl.ConversationSid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if c, err = s.settleRead(ctx, s.store, c); err != nil {
		return nil, err
	}
	if c.State == StateClosed {
		return nil, nil
	}
	return c, nil
}

// autoCreate creates the conversation an inbound message to in.To starts, per To's address
// configuration. Errors: 20404 (no enabled auto-creation for To).
func (s *Service) autoCreate(ctx context.Context, in InboundMessage) (*Conversation, *ConversationWebhook, error) {
	cfg, err := s.store.FindAddressConfig(ctx, in.AccountSid, in.To)
	if errors.Is(err, ErrNotFound) || err == nil && !cfg.AutoCreation.Enabled {
		return nil, nil, Errorf(KindNotFound, 20404, "No conversation holds the pair %s / %s and address %s has no address configuration with auto-creation enabled", in.From, in.To, in.To)
	} else if err != nil {
		return nil, nil, err
	}
	ac := cfg.AutoCreation
	svc, err := s.ResolveService(ctx, Scope{AccountSid: in.AccountSid, ServiceSid: ac.ServiceSid})
	if isNotFound(err) && ac.ServiceSid != "" {
		svc, err = s.ResolveService(ctx, Scope{AccountSid: in.AccountSid})
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := s.newConversation(ctx, svc, ConversationParams{})
	if err != nil {
		return nil, nil, err
	}
	from, to := in.From, in.To
	p, err := s.newParticipant(ParticipantCreate{Address: &from, ProxyAddress: &to})
	if err != nil {
		return nil, nil, err
	}
	o := WriteOptions{Source: InboundSource(in.From)}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if err := insertConversationTx(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, c.Sid); err != nil {
			return err
		}
		if err := s.addParticipantTx(ctx, tx, svc, c, p, nil, false); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.event(EventConversationAdded, c, nil, o), s.event(EventParticipantAdded, c, p, o))
	})
	if err != nil {
		return nil, nil, err
	}
	s.publish(ctx, EventConversationAdded, c, nil, o)
	s.publish(ctx, EventParticipantAdded, c, p, o)

	var wp *ConversationWebhookParams
	switch ac.Type {
	case AutoCreationWebhook:
		target, url, method := "webhook", ac.WebhookURL, ac.WebhookMethod
		wp = &ConversationWebhookParams{Target: &target, URL: &url, Filters: ac.WebhookFilters, FiltersGiven: len(ac.WebhookFilters) > 0}
		if method != "" {
			wp.Method = &method
		}
	case AutoCreationStudio:
		target, flow := "studio", ac.StudioFlowSid
		wp = &ConversationWebhookParams{Target: &target, FlowSid: &flow}
	}
	if wp == nil {
		return c, nil, nil
	}
	wh, err := s.CreateConversationWebhook(ctx, Scope{AccountSid: c.AccountSid, ServiceSid: c.ServiceSid}, c.Sid, *wp)
	if err != nil {
		return nil, nil, err
	}
	return c, wh, nil
}
