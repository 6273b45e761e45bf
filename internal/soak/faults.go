package soak

import (
	"net/http"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// fault is the local CIAM's form of a fault kind.
func fault(k FaultKind) localciam.Fault {
	switch k {
	case Fault500:
		return localciam.Fault{Status: http.StatusInternalServerError}
	case Fault503:
		return localciam.Fault{Status: http.StatusServiceUnavailable}
	case Fault429:
		return localciam.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}}
	case FaultReset:
		return localciam.Fault{Reset: true}
	case FaultLost:
		return localciam.Fault{Swallow: true, Status: http.StatusBadGateway}
	case FaultSlowLost:
		return localciam.Fault{AnswerAfter: 3 * time.Second}
	case FaultSlow:
		return localciam.Fault{Delay: 3 * time.Second, Pass: true}
	case FaultHTML:
		return localciam.Fault{Status: http.StatusOK, ContentType: "text/html; charset=utf-8", Body: "<html><body><h1>Service Temporarily Unavailable</h1></body></html>"}
	default:
		return localciam.Fault{Truncate: true}
	}
}

func (r *Run) queueFaults(s Step) {
	for _, k := range s.TokenFaults {
		r.srv.InjectFaults(localciam.TokenPath, fault(k))
	}
	for _, k := range s.RevokeFaults {
		r.srv.InjectFaults(localciam.RevokePath, fault(k))
	}
	r.faulty = len(s.TokenFaults)+len(s.RevokeFaults) > 0 || s.Op == OpDown
	if len(s.TokenFaults) > 0 {
		// Whether a lost answer hit a renewal is in the directory's
		// records, which command checks.
		r.faultMayHitAnExchange()
	}
}

// usedFaults counts the faults the step used (the first ones queued) and
// drops the rest, so that no fault outlives its step.
func (r *Run) usedFaults(s Step) {
	for path, kinds := range map[string][]FaultKind{localciam.TokenPath: s.TokenFaults, localciam.RevokePath: s.RevokeFaults} {
		used := len(kinds) - r.srv.PendingFaults(path)
		for _, k := range kinds[:max(used, 0)] {
			r.stats.Faults[k]++
		}
	}
	r.srv.ClearFaults()
}
