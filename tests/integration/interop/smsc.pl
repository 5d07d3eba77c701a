#!/usr/bin/perl
# smsc.pl -- Net::SMPP (Debian libnet-smpp-perl) in the SMSC role, for
# test_interop.py: shortcoded binds to it as an ESME.
#
#   smsc.pl --port-file FILE [--port N] [--timeout S] [--trace]
#
# Listens on 127.0.0.1 (port 0 = any; the port is written to FILE once
# listening), accepts one connection and runs a fixed dialogue:
#   bind_transceiver (system_id shortcoded, password secret) -> resp ROK
#   deliver_sm "0000", dc 0            -> deliver_sm_resp ROK + one reply
#   deliver_sm "００００", dc 8 (UCS-2)  -> deliver_sm_resp ROK + one reply
#   deliver_sm, sm_length 0, message_payload "0000" -> the same
#   enquire_link                        -> enquire_link_resp ROK
#   data_sm, message_payload "0000"     -> data_sm_resp ROK + one reply
#   unbind                              -> unbind_resp ROK
# Every reply's submit_sm is answered with submit_sm_resp ROK and a
# message_id; its parts (UDH, SAR TLVs or message_payload) are reassembled.
# Output, one line each: "OK <step> ...", "REPLY <label> ... text=<UTF-8>",
# "RECV <cmd> ..." (every PDU read, body in hex), "DONE" at the end, or
# "FAIL <reason>". Exit 0 only after DONE. Every wait is bounded.
use strict;
use warnings;
use utf8;
use FindBin;
use Getopt::Long;
use Encode ();
use IO::Select;
use Time::HiRes ();
use Net::SMPP;

require "$FindBin::Bin/smpp_common.pl";

my ($port_file, $port, $timeout, $trace) = (undef, 0, 40, 0);
GetOptions('port-file=s' => \$port_file, 'port=i' => \$port, 'timeout=i' => \$timeout,
           'trace' => \$trace)
    or die "usage: smsc.pl --port-file FILE [--port N] [--timeout S] [--trace]\n";
die "--port-file is required\n" unless defined $port_file;
set_deadline($timeout);
$Net::SMPP::trace = $trace;
$SIG{__DIE__} = sub { return if $^S; fail("died: $_[0]") };

my $STEP_S = 10;    # any one step; the whole run is bounded by --timeout

my $srv = Net::SMPP->new_listen('127.0.0.1', port => $port, timeout => 15, listen => 4)
    or fail("listen on 127.0.0.1:$port: $!");
$port = $srv->sockport;
open(my $pf, '>', "$port_file.tmp") or fail("$port_file.tmp: $!");
print $pf "$port\n";
close($pf);
rename("$port_file.tmp", $port_file) or fail("rename $port_file: $!");
out("LISTEN 127.0.0.1:$port");

# accept() is bounded by the listening socket's Timeout (IO::Socket selects
# before accepting); Net::SMPP::new copies the listener's settings.
my $s = $srv->accept() or fail("no connection within 15 s: $@");
set_socket_opts($s, 5);
out('ACCEPT from ' . $s->peerhost . ':' . $s->peerport);

# ---- bind ---------------------------------------------------------------
{
    my ($pdu, $err) = next_pdu($s, $STEP_S);
    fail("waiting for bind: $err") unless $pdu;
    fail('first PDU is ' . cmd_name($pdu->{cmd}) . ', not bind_transceiver')
        unless $pdu->{cmd} == Net::SMPP::CMD_bind_transceiver;
    fail("bind system_id '$pdu->{system_id}'") unless $pdu->{system_id} eq 'shortcoded';
    fail('bind password is not the configured one') unless $pdu->{password} eq 'secret';
    fail(sprintf('bind interface_version 0x%02x', $pdu->{interface_version}))
        unless $pdu->{interface_version} == 0x34;
    $s->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'netsmpp')
        // fail("bind_transceiver_resp not sent: $!");
    out(sprintf("OK bind system_id=%s system_type='%s' ton=%d npi=%d range='%s' seq=%u",
                $pdu->{system_id}, $pdu->{system_type}, $pdu->{addr_ton}, $pdu->{addr_npi},
                $pdu->{address_range}, $pdu->{seq}));
}

my $msg_n = 0;

# Answer a submit_sm from the daemon and add it to its message. Returns the
# completed reply as a hash, or undef while parts are missing.
sub take_submit {
    my ($pdu, $label, $mo_src) = @_;
    my $id = sprintf('netsmpp-%d', ++$msg_n);
    $s->submit_sm_resp(seq => $pdu->{seq}, message_id => $id) // fail("submit_sm_resp: $!");
    out(sprintf('PART %s seq=%u src=%d/%d/%s dst=%d/%d/%s esm_class=0x%02x dc=%d sm_length=%d '
                . 'payload=%s sar=%s message_id=%s',
                $label, $pdu->{seq}, $pdu->{source_addr_ton}, $pdu->{source_addr_npi},
                $pdu->{source_addr}, $pdu->{dest_addr_ton}, $pdu->{dest_addr_npi},
                $pdu->{destination_addr}, $pdu->{esm_class}, $pdu->{data_coding},
                length($pdu->{short_message} // ''),
                defined $pdu->{message_payload} ? length($pdu->{message_payload}) : '-',
                defined $pdu->{sar_msg_ref_num} ? hex_of($pdu->{sar_msg_ref_num} . $pdu->{sar_total_segments} . $pdu->{sar_segment_seqnum}) : '-',
                $id));
    fail("$label: reply addressed to $pdu->{destination_addr}, the MO came from $mo_src->[2]")
        unless $pdu->{destination_addr} eq $mo_src->[2];
    fail("$label: reply TON/NPI $pdu->{dest_addr_ton}/$pdu->{dest_addr_npi}, the MO's were "
         . "$mo_src->[0]/$mo_src->[1]")
        unless $pdu->{dest_addr_ton} == $mo_src->[0] && $pdu->{dest_addr_npi} == $mo_src->[1];
    fail("$label: reply sent from '$pdu->{source_addr}', not the service number 10086")
        unless $pdu->{source_addr} eq '10086';
    fail(sprintf('%s: esm_class 0x%02x in a reply', $label, $pdu->{esm_class}))
        if $pdu->{esm_class} & ~0x40;
    my ($text, $parts, $dc, $how) = reasm_add($pdu);
    return undef unless defined $text;
    return { text => $text, parts => $parts, dc => $dc, how => $how,
             src => "$pdu->{source_addr_ton}/$pdu->{source_addr_npi}/$pdu->{source_addr}",
             dst => "$pdu->{dest_addr_ton}/$pdu->{dest_addr_npi}/$pdu->{destination_addr}" };
}

# Requests the daemon may send at any time that are not part of a step.
sub take_other {
    my ($pdu, $label) = @_;
    if ($pdu->{cmd} == Net::SMPP::CMD_enquire_link) {
        $s->enquire_link_resp(seq => $pdu->{seq});
        out("INFO $label: answered the daemon's enquire_link seq=$pdu->{seq}");
        return;
    }
    fail(sprintf('%s: unexpected %s seq=%u status=0x%x body=%s', $label, cmd_name($pdu->{cmd}),
                 $pdu->{seq}, $pdu->{status}, hex_of($pdu->{data})));
}

# Send one MO; wait for its resp (status ROK, same seq) and exactly one
# complete reply.
sub mo_step {
    my ($label, $method, $resp_cmd, $mo_src, %args) = @_;
    my $seq = $s->$method(async => 1, source_addr_ton => $mo_src->[0],
                          source_addr_npi => $mo_src->[1], source_addr => $mo_src->[2],
                          destination_addr => '10086', %args)
        // fail("$label: $method not sent: $!");
    out("SENT $label $method seq=$seq");
    my ($resp, $reply);
    my $until = Time::HiRes::time() + $STEP_S;
    while (!$resp || !$reply) {
        my ($pdu, $err) = next_pdu($s, $until - Time::HiRes::time());
        fail("$label: " . ($resp ? 'no reply' : "no " . cmd_name($resp_cmd)) . " ($err)") unless $pdu;
        if ($pdu->{cmd} == $resp_cmd) {
            fail("$label: " . cmd_name($resp_cmd) . " seq $pdu->{seq}, expected $seq")
                unless $pdu->{seq} == $seq;
            fail("$label: second " . cmd_name($resp_cmd)) if $resp;
            fail(sprintf('%s: %s status 0x%x (%s)', $label, cmd_name($resp_cmd), $pdu->{status},
                         $pdu->explain_status)) if $pdu->{status} != 0;
            $resp = $pdu;
            out(sprintf("OK %s %s seq=%u status=0 message_id='%s'", $label, cmd_name($resp_cmd),
                        $pdu->{seq}, $pdu->{message_id} // ''));
        } elsif ($pdu->{cmd} == Net::SMPP::CMD_submit_sm) {
            fail("$label: a second reply") if $reply;
            $reply = take_submit($pdu, $label, $mo_src);
        } else {
            take_other($pdu, $label);
        }
    }
    out(sprintf('REPLY %s parts=%d how=%s dc=%d src=%s dst=%s text=%s', $label, $reply->{parts},
                $reply->{how}, $reply->{dc}, $reply->{src}, $reply->{dst}, $reply->{text}));
}

# A request of ours that only expects its resp (no submit_sm may come).
sub simple_step {
    my ($label, $method, $resp_cmd) = @_;
    my $seq = $s->$method(async => 1) // fail("$label: not sent: $!");
    out("SENT $label seq=$seq");
    my $until = Time::HiRes::time() + $STEP_S;
    while (1) {
        my ($pdu, $err) = next_pdu($s, $until - Time::HiRes::time());
        fail("$label: no " . cmd_name($resp_cmd) . " ($err)") unless $pdu;
        if ($pdu->{cmd} == $resp_cmd) {
            fail("$label: resp seq $pdu->{seq}, expected $seq") unless $pdu->{seq} == $seq;
            fail(sprintf('%s: status 0x%x', $label, $pdu->{status})) if $pdu->{status};
            out("OK $label seq=$seq status=0");
            return;
        }
        take_other($pdu, $label);
    }
}

mo_step('deliver_sm', 'deliver_sm', Net::SMPP::CMD_deliver_sm_resp, [0, 0, '13800138000'],
        data_coding => 0, short_message => '0000');
mo_step('deliver_sm_ucs2', 'deliver_sm', Net::SMPP::CMD_deliver_sm_resp, [0, 1, '13800138001'],
        data_coding => 8, short_message => Encode::encode('UTF-16BE', '００００'));
mo_step('deliver_sm_payload', 'deliver_sm', Net::SMPP::CMD_deliver_sm_resp, [0, 0, '13800138003'],
        data_coding => 0, short_message => '', message_payload => '0000');
simple_step('enquire_link', 'enquire_link', Net::SMPP::CMD_enquire_link_resp);
mo_step('data_sm', 'data_sm', Net::SMPP::CMD_data_sm_resp, [1, 1, '8613800138002'],
        data_coding => 0, message_payload => '0000');
fail(reasm_pending() . ' reply message(s) left incomplete') if reasm_pending();
simple_step('unbind', 'unbind', Net::SMPP::CMD_unbind_resp);

# After unbind_resp the daemon closes the connection (SMPP 3.4 2.2.1).
{
    my ($pdu, $err) = next_pdu($s, 3);
    fail('after unbind: unexpected ' . cmd_name($pdu->{cmd})) if $pdu;
    out("OK closed_by_daemon ($err)") unless $err eq 'timeout';
    out('INFO daemon kept the connection open 3 s after unbind_resp') if $err eq 'timeout';
}
close($s);
close($srv);
out('DONE');
exit 0;
